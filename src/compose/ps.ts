/**
 * Reading `docker compose ps --format json`. Compose up to 2.20 prints one JSON array; later
 * versions print one JSON object per line. Both become the same rows. Pure: no I/O.
 */
export interface PsRow {
  service: string;
  name: string;
  /** running, exited, created, restarting, paused, dead... */
  state: string;
  /** healthy, unhealthy, starting, or "" when the service has no healthcheck. */
  health: string;
  exitCode: number;
  status: string;
  ports: string;
}

function toRow(raw: Record<string, unknown>): PsRow {
  return {
    service: String(raw.Service ?? ""),
    name: String(raw.Name ?? ""),
    state: String(raw.State ?? "").toLowerCase(),
    health: String(raw.Health ?? "").toLowerCase(),
    exitCode: Number(raw.ExitCode ?? 0),
    status: String(raw.Status ?? ""),
    ports: String(raw.Ports ?? ""),
  };
}

/** A container as every --json document names its fields (`ps`, `status`). */
export interface ContainerJson {
  service: string;
  container: string;
  state: string;
  health: string;
  exitCode: number;
  status: string;
  ports: string;
}

export function containerJson(row: PsRow): ContainerJson {
  return { service: row.service, container: row.name, state: row.state, health: row.health, exitCode: row.exitCode, status: row.status, ports: row.ports };
}

export function parsePs(output: string): PsRow[] {
  const text = output.trim();
  if (text === "") return [];
  if (text.startsWith("[")) return (JSON.parse(text) as Record<string, unknown>[]).map(toRow);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => toRow(JSON.parse(line) as Record<string, unknown>));
}
