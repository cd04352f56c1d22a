import { expect, test } from "bun:test";
import { CslrError } from "../../src/errors.ts";
import { childExit, eraseLineStripper, exitCodeOf, probeProgram, runInteractive } from "../../src/compose/runner.ts";

test.each([
  [0, null, 0],
  [3, null, 3],
  [null, "SIGINT", 130],
  [null, "SIGTERM", 143],
  [null, 9, 137],
] as [number | null, string | number | null, number][])("exitCodeOf(%p, %p) = %p", (code, signal, expected) => {
  expect(exitCodeOf(code, signal)).toBe(expected);
});

test("childExit passes 0 and turns other codes into a CslrError carrying the code", () => {
  expect(childExit(0, ["docker compose", "up"])).toBe(0);
  const error = (() => {
    try {
      childExit(7, ["docker compose", "logs"]);
    } catch (e) {
      return e as CslrError;
    }
  })();
  expect(error).toBeInstanceOf(CslrError);
  expect(error?.exitCode).toBe(7);
  expect(error?.message).toBe("docker compose logs exited with code 7");
  expect(() => childExit(130, ["docker compose", "logs"])).toThrow("docker compose logs stopped by SIGINT");
});

test("probeProgram captures a real program's output and code; null when absent", async () => {
  expect(await probeProgram(["bash", "-c", "echo out; echo err >&2; exit 4"])).toEqual({ code: 4, stdout: "out\n", stderr: "err\n" });
  expect(await probeProgram(["cslr-no-such-program-xyz"])).toBeNull();
});

test("runInteractive returns the child's exit code, and 128+N when a signal ends it", async () => {
  expect(await runInteractive(["bash", "-c", "exit 5"])).toBe(5);
  expect(await runInteractive(["bash", "-c", "kill -TERM $$"])).toBe(143);
});

test("a variable cslr removed from its environment does not reach the child (compose would prefer it to .env)", async () => {
  // The variable must be in the environment cslr starts with: Bun's spawn without env passes that one.
  const script = `import { probeProgram } from ${JSON.stringify(`${import.meta.dir}/../../src/compose/runner.ts`)};
delete process.env.CSLR_TEST_DROPPED;
const result = await probeProgram(["sh", "-c", 'printf "%s" "\${CSLR_TEST_DROPPED-unset}"']);
process.stdout.write(result?.stdout ?? "no result");`;
  const proc = Bun.spawnSync([process.execPath, "-e", script], { env: { ...process.env, CSLR_TEST_DROPPED: "cslr1.pin.secret" } });
  expect(proc.stdout.toString()).toBe("unset");
});

test("eraseLineStripper drops ESC[2K, also when a chunk ends inside one", () => {
  const strip = eraseLineStripper();
  const out = [strip("\x1b[2Ka-1  | hello\n\x1b["), strip("2Ka-1  | world\n\x1b"), strip("[31mred\x1b[0m\n"), strip("", true)].join("");
  expect(out).toBe("a-1  | hello\na-1  | world\n\x1b[31mred\x1b[0m\n");
});

test("runInteractive with a stdout filter: a real child's output goes through it, its code comes back", async () => {
  const script = `printf '\\033[2Ka-1  | one\\n'; sleep 0.05; printf '\\033[2Ka-1  | two\\n'; exit 3`;
  const child = Bun.spawn(
    [
      "bun",
      "-e",
      `const { runInteractive, eraseLineStripper } = await import(${JSON.stringify(import.meta.dir + "/../../src/compose/runner.ts")}); process.exitCode = await runInteractive(["bash", "-c", ${JSON.stringify(script)}], undefined, undefined, eraseLineStripper());`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  expect(stdout).toBe("a-1  | one\na-1  | two\n");
  expect(code).toBe(3);
});
