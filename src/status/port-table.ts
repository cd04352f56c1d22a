/** `cslr ports`' table: consecutive ports of one service and purpose on one line, columns padded to the widest cell. */

export interface PlannedPort {
  port: number;
  service: string;
  what: string;
}

export function portTableLines(plan: readonly PlannedPort[]): string[] {
  const rows: [string, string, string][] = [];
  let i = 0;
  while (i < plan.length) {
    let j = i;
    while (j + 1 < plan.length && plan[j + 1]!.port === plan[j]!.port + 1 && plan[j + 1]!.service === plan[i]!.service && plan[j + 1]!.what === plan[i]!.what)
      j++;
    rows.push([i === j ? `${plan[i]!.port}` : `${plan[i]!.port}-${plan[j]!.port}`, plan[i]!.service, plan[i]!.what]);
    i = j + 1;
  }
  const rangeWidth = Math.max(0, ...rows.map((r) => r[0].length));
  const serviceWidth = Math.max(0, ...rows.map((r) => r[1].length));
  return rows.map(([range, service, what]) => `  ${range.padEnd(rangeWidth)}  ${service.padEnd(serviceWidth)}  ${what}`);
}
