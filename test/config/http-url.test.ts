/** The strict http(s) URL grammar every URL from a file or the network passes (src/config/net.ts). */
import { expect, test } from "bun:test";
import { parseHttpUrl } from "../../src/config/net.ts";

const accepted: [string, ReturnType<typeof parseHttpUrl>][] = [
  ["http://10.0.0.5:8888", { scheme: "http", host: "10.0.0.5", port: 8888, path: "" }],
  ["https://coord.lab.example:443/", { scheme: "https", host: "coord.lab.example", port: 443, path: "/" }],
  ["http://health:8080/v1", { scheme: "http", host: "health", port: 8080, path: "/v1" }],
  ["http://[::1]:80", { scheme: "http", host: "[::1]", port: 80, path: "" }],
];
const refused = [
  "http://127.0.0.1:5000/\n    allowed_hosts: [&m mlflow]", // URL.canParse drops the line break and says yes
  "http://127.0.0.1:5000/\tx",
  "http://127.0.0.1:5000/\r",
  "http://127.0.0.1:5000/\u001b[2J",
  "http://127.0.0.1:5000/\u2028x",
  "http://127.0.0.1:5000/ x",
  "http://user:pw@127.0.0.1:5000",
  "http://127.0.0.1:5000/?q=1",
  "http://127.0.0.1:5000/#x",
  "http://127.0.0.1:0",
  "http://127.0.0.1:65536",
  "http://-bad-:80",
  "file:///etc/passwd",
  "ftp://health:8080",
  "http://",
  `http://a/${"x".repeat(300)}`,
];

test.each(accepted)("%p is a plain http(s) URL", (raw, expected) => {
  expect(parseHttpUrl(raw)).toEqual(expected);
});

test.each(refused)("%p is refused", (raw) => {
  expect(parseHttpUrl(raw)).toBeUndefined();
});
