import { expect, test } from "bun:test";
import { parseReplies } from "./redis.ts";

test.each([
  ["+OK\r\n", ["OK"], ""],
  ["-NOAUTH Authentication required.\r\n", [{ error: "NOAUTH Authentication required." }], ""],
  [":42\r\n$4\r\nkept\r\n$-1\r\n", [42, "kept", null], ""],
  ["$4\r\nke", [], "$4\r\nke"],
  ["+OK\r\n$10\r\npartial", ["OK"], "$10\r\npartial"],
])("parseReplies(%j)", (text, replies, rest) => {
  expect(parseReplies(text)).toEqual({ replies, rest } as never);
});
