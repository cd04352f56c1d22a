import { expect, test } from "bun:test";
import { userNameOf } from "../../src/jobs/cli-io.ts";

const passwd = "root:x:0:0:root:/root:/bin/bash\nada:x:1000:1000:Ada:/home/ada:/bin/bash\n";

test.each([
  [1000, passwd, {}, "ada"],
  [1000, passwd, { USER: "someone-else" }, "ada"],
  [1001, passwd, { USER: "bob" }, "bob"],
  [1001, passwd, { LOGNAME: "carol" }, "carol"],
  [1001, undefined, {}, "uid-1001"],
] as const)("uid %p → %p", (uid, text, env, expected) => {
  expect(userNameOf(uid, text, env)).toBe(expected);
});

test("with USER unset, cslr_user is the uid's name (as id -un says), never unknown", async () => {
  const env = { ...process.env };
  delete env.USER;
  delete env.LOGNAME;
  delete env.USERNAME;
  const script = `const { whoAmI } = await import(${JSON.stringify(`${import.meta.dir}/../../src/jobs/cli-io.ts`)}); console.log(whoAmI().user);`;
  const child = Bun.spawnSync(["bun", "-e", script], { env });
  const id = Bun.spawnSync(["id", "-un"]);
  expect(child.stdout.toString().trim()).toBe(id.stdout.toString().trim());
  expect(child.stdout.toString().trim()).not.toBe("unknown");
});
