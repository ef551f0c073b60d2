"""Scenario workspaces: generated agent traces, git repositories and stand-in agent processes.

Drills (`agentir drill run`) and the demo (`agentir demo`) build the same kind of scratch
workspace from a scenario: a repository whose history holds human and agent commits, a trace in
which the agent made those commits (with their real hashes in the `git commit` output), and,
for a kill-switch drill, a running stand-in for the agent.
"""
