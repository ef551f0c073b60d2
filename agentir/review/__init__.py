"""The post-incident review: evidence gathered from traces and the incident, as plain data.

`collect` reads each trace once (the assess pass, with an observer riding along); `context`
turns an incident, its timeline and those assessments into the template context that
`agentir.render.report` renders. Nothing here prints or renders.
"""
