import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "health", description: "The head election service (runs inside the health container)" },
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.default),
    ping: () => import("./ping.ts").then((m) => m.default),
  },
});
