import type { CommandDef } from "citty";

/** Command name → lazy loader, so `cslr --version` loads none of them. */
export const commands = {
  init: () => import("./init.ts").then((m) => m.default),
  generate: () => import("./generate.ts").then((m) => m.default),
  schema: () => import("./schema.ts").then((m) => m.default),
  templates: () => import("./templates/index.ts").then((m) => m.default),
  up: () => import("./up.ts").then((m) => m.default),
  down: () => import("./down.ts").then((m) => m.default),
  start: () => import("./start.ts").then((m) => m.default),
  stop: () => import("./stop.ts").then((m) => m.default),
  restart: () => import("./restart.ts").then((m) => m.default),
  ps: () => import("./ps.ts").then((m) => m.default),
  logs: () => import("./logs.ts").then((m) => m.default),
  exec: () => import("./exec.ts").then((m) => m.default),
  compose: () => import("./compose.ts").then((m) => m.default),
  status: () => import("./status.ts").then((m) => m.default),
  open: () => import("./open.ts").then((m) => m.default),
  doctor: () => import("./doctor.ts").then((m) => m.default),
  secrets: () => import("./secrets/index.ts").then((m) => m.default),
  test: () => import("./test.ts").then((m) => m.default),
  health: () => import("./health/index.ts").then((m) => m.default),
  node: () => import("./node.ts").then((m) => m.default),
  join: () => import("./join.ts").then((m) => m.default),
  leave: () => import("./leave.ts").then((m) => m.default),
  handover: () => import("./handover.ts").then((m) => m.default),
  ports: () => import("./ports.ts").then((m) => m.default),
  run: () => import("./run.ts").then((m) => m.default),
  jobs: () => import("./jobs/index.ts").then((m) => m.default),
  help: () => import("./help.ts").then((m) => m.default),
  version: () => import("./version.ts").then((m) => m.default),
  completion: () => import("./completion.ts").then((m) => m.default),
  __services: () => import("./services.ts").then((m) => m.default),
} satisfies Record<string, () => Promise<CommandDef<any>>>;

export type CommandName = keyof typeof commands;
