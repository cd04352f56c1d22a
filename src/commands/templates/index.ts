import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "templates", description: "Work with the embedded templates" },
  subCommands: {
    eject: () => import("./eject.ts").then((m) => m.default),
  },
});
