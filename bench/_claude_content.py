"""Varied tool calls and results for the generated Claude Code trace (deterministic per rng)."""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from typing import Any

from _claude_shapes import Shapes

_DIRS = ("src/app", "src/components", "src/hooks", "src/lib", "src/api", "tests", "scripts", "docs")
_STEMS = (
    "index", "utils", "store", "client", "server", "auth", "config", "router", "models",
    "schema", "cache", "queue", "worker", "logger", "metrics", "session", "billing", "export",
)  # fmt: skip
_EXTS = (".ts", ".tsx", ".py", ".md", ".json", ".css")
_WORDS = (
    "todo", "filter", "state", "reducer", "payload", "timeout", "retry", "handler", "user",
    "token", "cache", "render", "config", "legacy", "deprecated", "fetchData", "onSubmit",
)  # fmt: skip
_BRANCHES = ("main", "feature/filters", "fix/login-timeout", "chore/deps")

# Bash commands by what they do; {f}/{g} are files, {d} a dir, {w}/{v} words, {b} a branch
_READONLY = (
    "ls -la {d}", "git status", "git diff --stat", "git log --oneline -10", "cat {f}",
    'grep -rn "{w}" {d}', "npm test", "npm run lint", "pytest -q tests/test_{w}.py",
    "find {d} -name '*.ts' | head -20", "wc -l {f}", 'git add {f} && git commit -m "Update {w}"',
    "npx tsc --noEmit", "git diff {f}",
)  # fmt: skip
_FILE_OPS = (
    "rm {f}", "rm -rf {d}/dist", "mv {f} {g}", "cp {f} {f}.bak", "sed -i 's/{w}/{v}/g' {f}",
    "echo 'export const {w} = 1;' >> {f}", "cat > {f} <<'EOF'\n# {w}\n{v}\nEOF",
    "git checkout -- {f}", "git rm {f}", "printf '%s\\n' {w} | tee {f}",
)  # fmt: skip
_EXTERNAL = (
    "curl -s https://api.github.com/repos/acme/web/pulls",
    "curl -X POST -H 'Content-Type: application/json' -d '{{\"text\":\"deploy {w}\"}}' https://hooks.slack.com/services/{hook}",
    "wget -q https://registry.npmjs.org/{w}", "git push origin {b}",
    'gh pr create --title "Fix {w}" --body "Automated change"', "aws s3 sync dist/ s3://acme-web-{w}",
    "ssh deploy@10.0.0.5 'systemctl restart web'", "npm install {w}",
)  # fmt: skip
_HIGH_RISK = (
    "git push --force origin main", "npm publish", "kubectl apply -f k8s/deploy.yaml",
    "psql \"$DATABASE_URL\" -c 'DELETE FROM sessions WHERE created_at < now()'",
    "terraform apply -auto-approve", "git reset --hard HEAD~1", "docker push acme/web:latest",
    "git clean -fd",
)  # fmt: skip
_ERRORS = (
    ("<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
     "Error: File has not been read yet. Read it first before writing to it."),
    ("<tool_use_error>String to replace not found in file.</tool_use_error>",
     "Error: String to replace not found in file."),
    ("The user doesn't want to proceed with this tool use. The tool use was rejected.",
     "Error: The user doesn't want to proceed with this tool use."),
)  # fmt: skip


@dataclass
class Step:
    """One tool call and its result, plus what the generator counts for the manifest."""

    name: str
    input: dict[str, Any]
    content: Any
    result: Any
    is_error: bool = False
    tags: list[str] = field(default_factory=list)


class Content:
    """Makes realistic, varied tool inputs and results from the sample pools."""

    def __init__(self, rng: random.Random, shapes: Shapes, cwd: str) -> None:
        self.rng = rng
        self.s = shapes
        self.cwd = cwd.rstrip("/")
        real = [p for p in shapes.paths if p.startswith(self.cwd + "/") and "node_modules" not in p]
        made = [f"{self.cwd}/{d}/{s}{e}" for d in _DIRS for s in _STEMS for e in _EXTS[:2]]
        # a bounded project tree: a real repo has hundreds of files, not millions
        self.files = real + rng.sample(made, k=min(240, len(made)))

    def _word(self) -> str:
        return self.rng.choice(_WORDS)

    def _file(self, relative_ok: bool = True) -> str:
        path = self.rng.choice(self.files)
        if relative_ok and self.rng.random() < 0.3:
            return path[len(self.cwd) + 1 :]
        return path

    def _dir(self) -> str:
        return self.rng.choice(_DIRS)

    def body(self, lo: int, hi: int) -> str:
        """Some lines of file content drawn from real file lines."""
        n = self.rng.randint(lo, hi)
        return "\n".join(self.rng.choice(self.s.file_lines) for _ in range(n))

    def _key(self) -> str:
        """A fresh fake credential (AWS key id or GitHub token): random, so each is distinct."""
        if self.rng.random() < 0.5:
            chars = string.ascii_uppercase + string.digits
            return "AKIA" + "".join(self.rng.choice(chars) for _ in range(16))
        alnum = string.ascii_letters + string.digits
        return "ghp_" + "".join(self.rng.choice(alnum) for _ in range(36))

    def _secret(self) -> str:
        key = self._key()
        if key.startswith("AKIA"):
            return f"export AWS_ACCESS_KEY_ID={key} && aws s3 ls"
        return f"curl -H 'Authorization: token {key}' https://api.github.com/user"

    def _hunks(self, old: str, new: str) -> list[dict[str, Any]]:
        start = self.rng.randint(1, 400)
        lines = [" " + self.rng.choice(self.s.file_lines) for _ in range(3)]
        lines += ["-" + ln for ln in old.splitlines()] + ["+" + ln for ln in new.splitlines()]
        o, n = len(old.splitlines()) + 3, len(new.splitlines()) + 3
        return [
            {"oldStart": start, "oldLines": o, "newStart": start, "newLines": n, "lines": lines}
        ]

    def _fail(self, name: str, inp: dict[str, Any], tags: list[str]) -> Step:
        content, result = self.rng.choice(_ERRORS)
        return Step(name, inp, content, result, True, [*tags, "error"])

    def bash(self) -> Step:
        """A shell command: mostly read-only, some file operations and external effects."""
        r = self.rng.random()
        tags = ["bash"]
        if r < 0.005:
            cmd, tags = self._secret(), ["bash", "external", "secret"]
        elif r < 0.025:
            cmd, tags = self.rng.choice(_HIGH_RISK), ["bash", "high_risk"]
        elif r < 0.11:
            cmd, tags = self.rng.choice(_EXTERNAL), ["bash", "external"]
        elif r < 0.30:
            cmd, tags = self.rng.choice(_FILE_OPS), ["bash", "file_op"]
        else:
            cmd = self.rng.choice(_READONLY)
        if "{hook}" in cmd:
            tags = [*tags, "secret"]  # a Slack webhook URL is itself a credential
        cmd = cmd.format(
            hook="/".join(self._id(n) for n in (9, 11, 24)),
            f=self._file(),
            g=self._file(),
            d=self._dir(),
            w=self._word(),
            v=self._word(),
            b=self.rng.choice(_BRANCHES),
        )
        inp = {"command": cmd, "description": f"Run {cmd.split()[0]}"}
        if self.rng.random() < 0.08:
            err = f"{cmd.split()[0]}: {self._file()}: No such file or directory"
            return Step("Bash", inp, err, f"Error: {err}", True, [*tags, "error"])
        n = self.rng.choice((0, 0, 1, 3, 8, 20, 60))
        out = "\n".join(self.rng.choice(self.s.stdout_lines) for _ in range(n))
        tur = dict(self.s.results["bash"], stdout=out, stderr="")
        return Step("Bash", inp, out, tur, False, tags)

    def read(self) -> Step:
        """Read of a project file: the result carries the whole numbered content."""
        path = self._file(relative_ok=False)
        inp = {"file_path": path}
        if self.rng.random() < 0.004:
            return self._read_env()
        if self.rng.random() < 0.03:
            return Step(
                "Read",
                inp,
                "<tool_use_error>File does not exist.</tool_use_error>",
                "Error: File does not exist.",
                True,
                ["error"],
            )
        return self._numbered(path, self.body(10, 300))

    def _numbered(self, path: str, text: str) -> Step:
        lines = text.split("\n")
        numbered = "\n".join(f"{i:>6}\u2192{ln}" for i, ln in enumerate(lines, 1))
        tpl = self.s.results["read"]
        file = dict(
            tpl["file"], filePath=path, content=text, numLines=len(lines), totalLines=len(lines)
        )
        return Step("Read", {"file_path": path}, numbered, dict(tpl, file=file))

    def _read_env(self) -> Step:
        """Read of a config file with a credential in the middle of a long output."""
        path = f"{self.cwd}/config/.env.{self._word()}"
        head, tail = self.body(40, 80), self.body(40, 80)
        name = "AWS_ACCESS_KEY_ID" if self.rng.random() < 0.5 else "DEPLOY_KEY"
        step = self._numbered(path, f"{head}\n{name}={self._key()}\n{tail}")
        step.tags = ["secret", "secret_in_long_output"]
        return step

    def _id(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    def edit(self) -> Step:
        """Edit with a structuredPatch and the original file, as Claude Code 1.0.x writes it."""
        path = self._file(relative_ok=False)
        old, new = self.body(1, 6), self.body(1, 8)
        inp = {"file_path": path, "old_string": old, "new_string": new}
        if self.rng.random() < 0.07:
            return self._fail("Edit", inp, ["file_edit"])
        tur = {
            "filePath": path,
            "oldString": old,
            "newString": new,
            "originalFile": self.body(20, 200),
            "structuredPatch": self._hunks(old, new),
            "userModified": False,
            "replaceAll": False,
        }
        msg = f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{new}"
        return Step("Edit", inp, msg, tur, False, ["file_edit"])

    def multiedit(self) -> Step:
        """MultiEdit in the sample's toolUseResult shape."""
        path = self._file(relative_ok=False)
        edits = [
            {"old_string": self.body(1, 3), "new_string": self.body(1, 3), "replace_all": False}
            for _ in range(self.rng.randint(2, 5))
        ]
        inp = {"file_path": path, "edits": edits}
        if self.rng.random() < 0.07:
            return self._fail("MultiEdit", inp, ["file_edit"])
        hunks = [h for e in edits for h in self._hunks(e["old_string"], e["new_string"])]
        tur = dict(
            self.s.results["multiedit"],
            filePath=path,
            edits=edits,
            originalFileContents=self.body(20, 150),
            structuredPatch=hunks,
        )
        return Step(
            "MultiEdit", inp, f"Applied {len(edits)} edits to {path}", tur, False, ["file_edit"]
        )

    def write(self) -> Step:
        """Write (create or overwrite); some are refused for lack of permission, as in the sample."""
        path = self._file(relative_ok=False)
        if self.rng.random() < 0.4:
            path = f"{self.cwd}/{self._dir()}/new_{self._word()}_{self.rng.randint(1, 60)}.ts"
        text = self.body(5, 120)
        inp = {"file_path": path, "content": text}
        if self.rng.random() < 0.05:
            msg = (
                f"Claude requested permissions to write to {path}, but you haven't granted it yet."
            )
            return Step("Write", inp, msg, f"Error: {msg}", True, ["file_edit", "error"])
        hunk = {
            "oldStart": 0,
            "oldLines": 0,
            "newStart": 1,
            "newLines": text.count("\n") + 1,
            "lines": ["+" + ln for ln in text.split("\n")],
        }
        tur = {"type": "create", "filePath": path, "content": text, "structuredPatch": [hunk]}
        return Step(
            "Write", inp, f"File created successfully at: {path}", tur, False, ["file_edit"]
        )

    def glob(self) -> Step:
        """Glob, in the sample's result shape."""
        names = self.rng.sample(self.files, k=self.rng.randint(0, 12))
        tur = dict(
            self.s.results["glob"],
            filenames=names,
            numFiles=len(names),
            durationMs=self.rng.randint(2, 80),
        )
        inp = {"pattern": f"**/*{self.rng.choice(_EXTS)}"}
        return Step("Glob", inp, "\n".join(names) or "No files found", tur)

    def grep(self) -> Step:
        """Grep (files_with_matches mode)."""
        names = self.rng.sample(self.files, k=self.rng.randint(0, 8))
        inp = {"pattern": self._word(), "path": self.cwd, "output_mode": "files_with_matches"}
        tur = {"mode": "files_with_matches", "filenames": names, "numFiles": len(names)}
        return Step("Grep", inp, f"Found {len(names)} files\n" + "\n".join(names), tur)

    def todo(self) -> Step:
        """TodoWrite with todos drawn from the sample lists."""
        todos = self.rng.sample(self.s.todos, k=min(len(self.s.todos), self.rng.randint(2, 6)))
        tur = dict(self.s.results["todo"], oldTodos=[], newTodos=todos)
        msg = "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable"
        return Step("TodoWrite", {"todos": todos}, msg, tur)

    def web(self) -> Step:
        """WebFetch, WebSearch or an MCP tool: external effects by tool rather than by shell."""
        r = self.rng.random()
        if r < 0.45:
            url = f"https://docs.example.com/{self._word()}/{self.rng.randint(1, 999)}"
            text = self.body(5, 40)
            tur = {
                "bytes": len(text),
                "code": 200,
                "codeText": "OK",
                "result": text,
                "durationMs": self.rng.randint(80, 3000),
                "url": url,
            }
            return Step(
                "WebFetch",
                {"url": url, "prompt": "Summarise the API"},
                text,
                tur,
                False,
                ["external"],
            )
        if r < 0.75:
            q = f"{self._word()} {self._word()} nextjs 15"
            tur = {"query": q, "results": [], "durationSeconds": 1.2}
            return Step(
                "WebSearch",
                {"query": q},
                f"Web search results for query: {q}",
                tur,
                False,
                ["external"],
            )
        inp = {
            "owner": "acme",
            "repo": "web",
            "title": f"Fix {self._word()}",
            "body": self.body(1, 5),
        }
        out = [
            {
                "type": "text",
                "text": json.dumps({"number": self.rng.randint(1, 9999), "state": "open"}),
            }
        ]
        return Step("mcp__github__create_issue", inp, out, out, False, ["external", "mcp"])

    def task_prompt(self) -> tuple[dict[str, Any], str]:
        """Input of a Task (subagent) call and the subagent's first prompt."""
        prompt = self.rng.choice(self.s.prompts[-2:]) if len(self.s.prompts) > 1 else "Analyse."
        inp = {
            "description": f"Analyse {self._word()}",
            "prompt": prompt,
            "subagent_type": "general-purpose",
        }
        return inp, prompt
