import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "secrets", description: "Manage the secrets in .env" },
  subCommands: {
    rotate: () => import("./rotate.ts").then((m) => m.default),
  },
});
