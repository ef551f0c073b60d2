"""`agentir guard`: the live kill switch as a Claude Code PreToolUse hook.

`hook` decides one tool call (run as `python -m agentir.guard.hook`, a lean entry point),
`state` keeps each session's reading position and live facts, `live` mirrors what the
detectors judge by, `rules` judges a call and the spend against the policy (shared with
`agentir watch`), `record` logs blocks and opens incidents, `settings` installs the hook.
Nothing is imported here, so the hook starts fast.
"""
