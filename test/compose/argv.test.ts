import { describe, expect, test } from "bun:test";
import {
  composeArgv,
  composeLogsHasIndex,
  containerLogsArgs,
  engineProgram,
  parseReplicaIndex,
  parseReplicaList,
  replicaListArgs,
  replicaLookupArgs,
  downArgs,
  execArgs,
  formatCommandLine,
  logsArgs,
  parseLogTime,
  parseStopTimeout,
  quietArgs,
  optionValue,
  passthroughArgs,
  psArgs,
  restartArgs,
  splitExecArgs,
  startArgs,
  stopArgs,
  targetArgs,
  upArgs,
  type ComposeTarget,
  type ComposeTool,
} from "../../src/compose/argv.ts";

const target: ComposeTarget = { composeFile: "/p/_build/compose.yaml", projectName: "lab", envFile: "/p/.env", projectDir: "/p" };
const plugin: ComposeTool = { kind: "docker compose", command: ["docker", "compose"], version: "2.26.1" };

describe("subcommand argv", () => {
  const cases: [string, string[], string[]][] = [
    ["up", upArgs(), ["up"]],
    ["up -d --build", upArgs({ detach: true, build: true }), ["up", "--detach", "--build"]],
    ["up services", upArgs({ services: ["redis", "health"] }), ["up", "redis", "health"]],
    ["down", downArgs(), ["down"]],
    ["down -v --remove-orphans", downArgs({ volumes: true, removeOrphans: true }), ["down", "--volumes", "--remove-orphans"]],
    ["down -t 5", downArgs({ timeoutSeconds: 5 }), ["down", "--timeout", "5"]],
    ["start", startArgs(), ["start"]],
    ["start services", startArgs({ services: ["redis", "health"] }), ["start", "redis", "health"]],
    ["stop", stopArgs(), ["stop"]],
    ["stop -t 0 ray-cpu", stopArgs({ timeoutSeconds: 0, services: ["ray-cpu"] }), ["stop", "--timeout", "0", "ray-cpu"]],
    ["restart", restartArgs(), ["restart"]],
    ["restart -t 30 services", restartArgs({ timeoutSeconds: 30, services: ["ray-cpu", "ray-gpu"] }), ["restart", "--timeout", "30", "ray-cpu", "ray-gpu"]],
    ["ps", psArgs(), ["ps"]],
    ["ps --json --all", psArgs({ json: true, all: true }), ["ps", "--all", "--format", "json"]],
    ["logs", logsArgs(), ["logs"]],
    ["logs -f --tail 0", logsArgs({ follow: true, tail: 0 }), ["logs", "--follow", "--tail", "0"]],
    [
      "logs --since --until -t",
      logsArgs({ since: "45s", until: "2026-01-02", timestamps: true, services: ["health"] }),
      ["logs", "--since", "45s", "--until", "2026-01-02", "--timestamps", "health"],
    ],
    ["logs for cslr's errors", logsArgs({ tail: 30, noColor: true, services: ["ray-cpu"] }), ["logs", "--tail", "30", "--no-color", "ray-cpu"]],
    ["exec on a terminal", execArgs({ service: "ray-cpu", command: ["bash"], tty: true }), ["exec", "ray-cpu", "bash"]],
    ["exec in a script", execArgs({ service: "ray-cpu", command: ["ray", "status"], tty: false }), ["exec", "-T", "ray-cpu", "ray", "status"]],
    ["exec --index", execArgs({ service: "ray-worker", command: ["ls"], tty: false, index: 2 }), ["exec", "-T", "--index", "2", "ray-worker", "ls"]],
    ["logs --index", logsArgs({ follow: true, index: 3, services: ["ray-worker"] }), ["logs", "--follow", "--index", "3", "ray-worker"]],
    [
      "docker logs of one container",
      containerLogsArgs("abc123", { follow: true, tail: 5, since: "1h", until: "5m", timestamps: true }),
      ["logs", "--follow", "--tail", "5", "--since", "1h", "--until", "5m", "--timestamps", "abc123"],
    ],
    [
      "docker ps finding replica 2 by compose's labels",
      replicaLookupArgs("lab", "ray-worker", 2),
      [
        "ps",
        "--all",
        "--quiet",
        "--no-trunc",
        "--filter",
        "label=com.docker.compose.project=lab",
        "--filter",
        "label=com.docker.compose.service=ray-worker",
        "--filter",
        "label=com.docker.compose.oneoff=False",
        "--filter",
        "label=com.docker.compose.container-number=2",
      ],
    ],
    [
      "docker ps listing a service's replicas",
      replicaListArgs("lab", "ray-worker"),
      [
        "ps",
        "--all",
        "--no-trunc",
        "--filter",
        "label=com.docker.compose.project=lab",
        "--filter",
        "label=com.docker.compose.service=ray-worker",
        "--filter",
        "label=com.docker.compose.oneoff=False",
        "--format",
        '{{.Label "com.docker.compose.container-number"}} {{.ID}}',
      ],
    ],
  ];
  test.each(cases)("%s", (_name, actual, expected) => expect(actual).toEqual(expected));
});

describe("target flags", () => {
  test.each([
    ["with .env", target, ["-f", "/p/_build/compose.yaml", "-p", "lab", "--env-file", "/p/.env"]],
    ["without .env", { ...target, envFile: undefined }, ["-f", "/p/_build/compose.yaml", "-p", "lab"]],
    [
      "with the user's compose.override.yaml, applied after the generated file",
      { ...target, overrideFile: "/p/compose.override.yaml" },
      ["-f", "/p/_build/compose.yaml", "-f", "/p/compose.override.yaml", "-p", "lab", "--env-file", "/p/.env"],
    ],
  ] as [string, ComposeTarget, string[]][])("%s", (_name, t, expected) => expect(targetArgs(t)).toEqual(expected));

  test.each([
    [plugin, ["docker", "compose"]],
    [{ kind: "docker-compose", command: ["docker-compose"], version: "2.20.0" }, ["docker-compose"]],
    [{ kind: "podman compose", command: ["podman", "compose"], version: "1.0.6" }, ["podman", "compose"]],
  ] as [ComposeTool, string[]][])("program %j", (tool, program) => {
    expect(composeArgv(tool, target, ["ps"])).toEqual([...program, ...targetArgs(target), "ps"]);
  });
});

describe("formatCommandLine quotes only what a shell would split", () => {
  test.each([
    [["docker", "compose", "-f", "/p/a b/compose.yaml", "ps"], "docker compose -f '/p/a b/compose.yaml' ps"],
    [["exec", "ray-cpu", "sh", "-c", "echo $HOME"], "exec ray-cpu sh -c 'echo $HOME'"],
    [["it's"], `'it'\\''s'`],
    [["a=b,c:d@e%f+g"], "a=b,c:d@e%f+g"],
  ])("%j", (argv, expected) => expect(formatCommandLine(argv)).toBe(expected));
});

describe("splitExecArgs keeps cslr's options apart from the command", () => {
  const valueFlags = ["config", "nodes", "out"];
  test.each([
    [["ray-cpu", "ray", "status"], "ray-cpu", ["ray", "status"], []],
    [["--config", "c.yaml", "ray-cpu", "ls", "--config", "x"], "ray-cpu", ["ls", "--config", "x"], ["--config", "c.yaml"]],
    [["--config=c.yaml", "--dry-run", "redis", "redis-cli"], "redis", ["redis-cli"], ["--config=c.yaml", "--dry-run"]],
    [["--", "-weird-service", "cmd"], "-weird-service", ["cmd"], []],
    [["--verbose"], undefined, [], ["--verbose"]],
  ] as [string[], string | undefined, string[], string[]][])("%j", (raw, service, command, options) => {
    expect(splitExecArgs(raw, valueFlags)).toEqual({ service, command, options });
  });
});

test.each([
  [["--config", "a.yaml"], "config", "a.yaml"],
  [["--config=a.yaml", "--config", "b.yaml"], "config", "b.yaml"],
  [["--out", "x"], "config", undefined],
] as [string[], string, string | undefined][])("optionValue %j %s", (options, name, expected) => {
  expect(optionValue(options, name)).toBe(expected);
});

test.each([
  [["--", "config", "--services"], [], ["config", "--services"]],
  [["--dry-run", "--", "logs", "--", "x"], [], ["logs", "--", "x"]],
  [["config"], ["config"], ["config"]],
] as [string[], string[], string[]][])("passthroughArgs %j", (raw, positionals, expected) => {
  expect(passthroughArgs(raw, positionals)).toEqual(expected);
});

describe("parseLogTime takes what docker logs --since takes", () => {
  test.each([
    "45s",
    "1h30m",
    "1.5h",
    "300ms",
    "1767225600",
    "1767225600.5",
    "2026-01-02",
    "2026-01-02T13:23",
    "2026-01-02T13:23:37Z",
    "2026-01-02T13:23:37.5+01:00",
  ])("%s", (text) => expect(parseLogTime("since", text)).toBe(text));
  test.each(["soon", "45 s", "-1h", "2026-1-2", "yesterday"])("refuses %s", (text) => {
    expect(() => parseLogTime("until", text)).toThrow(
      `--until ${JSON.stringify(text)}: expected a duration like 45s or 2h, or a time like 2026-01-02T13:23:37Z`,
    );
  });
  test("absent stays absent", () => expect(parseLogTime("since", undefined)).toBeUndefined());
});

describe("parseStopTimeout: whole seconds, as compose's -t takes them", () => {
  test.each([
    ["0", 0],
    ["10", 10],
    [" 30 ", 30],
    [undefined, undefined],
  ] as [string | undefined, number | undefined][])("%p → %p", (text, expected) => {
    expect(parseStopTimeout(text)).toBe(expected);
  });
  test.each(["soon", "1.5", "-1", "10s", "123456"])("refuses %p", (text) => {
    expect(() => parseStopTimeout(text)).toThrow(`--timeout ${JSON.stringify(text)}: expected whole seconds, like --timeout 10`);
  });
});

describe("--index: replicas", () => {
  test.each([
    ["1", 1],
    ["2", 2],
    [" 12 ", 12],
    [undefined, undefined],
  ] as [string | undefined, number | undefined][])("parseReplicaIndex %p → %p", (text, expected) => {
    expect(parseReplicaIndex(text)).toBe(expected);
  });
  test.each(["0", "-1", "two", "1.5", "", "99999"])("parseReplicaIndex refuses %p", (text) => {
    expect(() => parseReplicaIndex(text)).toThrow(`--index ${JSON.stringify(text)}: expected a replica number from 1, like --index 2`);
  });

  test.each([
    ["docker compose", "2.26.1", true],
    ["docker compose", "2.24.0", true],
    ["docker compose", "2.23.3", false],
    ["docker compose", "2.20.2-1ubuntu1", false],
    ["docker-compose", "2.26.1-4", true],
    ["docker compose", "3.0.0", true],
    ["docker compose", "unknown", false],
    ["podman compose", "2.26.1", false],
  ] as [ComposeTool["kind"], string, boolean][])("%s %s has logs --index: %p", (kind, version, expected) => {
    expect(composeLogsHasIndex({ kind, command: [], version })).toBe(expected);
  });

  test.each([
    ["docker compose", "docker"],
    ["docker-compose", "docker"],
    ["podman compose", "podman"],
  ] as [ComposeTool["kind"], string][])("the engine beside %s is %s", (kind, program) => {
    expect(engineProgram({ kind, command: [], version: "2.26.1" })).toBe(program);
  });

  test("parseReplicaList reads NUMBER ID lines and skips others", () => {
    const id = (c: string) => c.repeat(64);
    const list = parseReplicaList(`2 ${id("b")}\n1 ${id("a")}\n\n ${id("c")}\nx ${id("d")}\n`);
    expect([...list.entries()]).toEqual([
      [2, id("b")],
      [1, id("a")],
    ]);
  });
});

describe("--quiet for compose: --progress quiet where compose has it (2.19+)", () => {
  test.each([
    ["docker compose", "2.26.1", ["--progress", "quiet"]],
    ["docker compose", "2.19.0", ["--progress", "quiet"]],
    ["docker compose", "2.18.1", []],
    ["docker-compose", "2.26.1-4", ["--progress", "quiet"]],
    ["podman compose", "1.0.6", []],
    ["docker compose", "unknown", []],
  ] as [ComposeTool["kind"], string, string[]][])("%s %s → %j", (kind, version, expected) => {
    expect(quietArgs({ kind, command: [], version })).toEqual(expected);
  });

  test("global flags go after the target and before the subcommand", () => {
    expect(composeArgv(plugin, target, ["down"], ["--progress", "quiet"])).toEqual(["docker", "compose", ...targetArgs(target), "--progress", "quiet", "down"]);
  });
});
