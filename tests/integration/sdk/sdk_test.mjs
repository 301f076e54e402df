// Drives `omcp serve` with the official MCP TypeScript SDK client over stdio:
// initialize, tools/list, create_sandbox, execute_python_code and
// remove_sandbox. Exits 0 when every check passes.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const testDirectory = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.OMCP_BINARY || path.resolve(testDirectory, "../../../build/omcp");

// The SDK passes only a few variables to the child by default, so hand over
// the environment without the server's own settings.
const configVariables = new Set([
  "SANDBOX_TIMEOUT", "MAX_SANDBOXES", "EXECUTION_DEFAULT_TIMEOUT", "EXECUTION_MAX_TIMEOUT",
  "EXECUTION_MAX_OUTPUT_BYTES", "SANDBOX_PYTHON", "SANDBOX_READ_ONLY", "SANDBOX_NETWORK",
  "PACKAGE_INSTALL_ENABLED", "LOG_LEVEL",
]);
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !configVariables.has(key)));
env.LOG_LEVEL = "WARNING";

// Fail instead of hanging when the server stops responding.
setTimeout(() => {
  console.log("not ok - the SDK test did not finish within 180 s");
  process.exit(1);
}, 180000).unref();

let passed = 0;
let failed = 0;

async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(error && error.stack || error).replace(/\n/g, "\n  ")}`);
  }
}

const transport = new StdioClientTransport({ command: binary, args: ["serve"], env, stderr: "inherit" });
const client = new Client({ name: "omcp-sdk-test", version: "1.0.0" });

let sandboxId = null;

await check("initialize", async () => {
  await client.connect(transport);
  const info = client.getServerVersion();
  assert.equal(info?.name, "omcp", `serverInfo: ${JSON.stringify(info)}`);
  assert.ok(client.getServerCapabilities()?.tools, "the server does not announce tools");
});

await check("tools/list", async () => {
  const { tools } = await client.listTools();
  const names = tools.map((tool) => tool.name);
  for (const name of ["ping", "create_sandbox", "list_sandboxes", "remove_sandbox",
    "execute_python_code", "install_package"]) {
    assert.ok(names.includes(name), `tools/list lacks ${name}: ${names.join(", ")}`);
  }
});

await check("create_sandbox", async () => {
  const result = await client.callTool({ name: "create_sandbox", arguments: {} });
  assert.equal(result.isError, false, JSON.stringify(result));
  assert.equal(result.structuredContent?.success, true, JSON.stringify(result));
  sandboxId = result.structuredContent.sandbox_id;
  assert.match(sandboxId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

await check("execute_python_code", async () => {
  assert.ok(sandboxId, "no sandbox to execute in");
  const result = await client.callTool({
    name: "execute_python_code",
    arguments: { sandbox_id: sandboxId, code: "print('hello from the sdk', 6 * 7)" },
  });
  assert.equal(result.isError, false, JSON.stringify(result));
  assert.equal(result.structuredContent?.output, "hello from the sdk 42\n");
  assert.equal(result.structuredContent?.exit_code, 0);
  const text = JSON.parse(result.content[0].text);
  assert.deepEqual(text, result.structuredContent);
});

await check("remove_sandbox", async () => {
  assert.ok(sandboxId, "no sandbox to remove");
  const result = await client.callTool({
    name: "remove_sandbox", arguments: { sandbox_id: sandboxId, force: true } });
  assert.equal(result.structuredContent?.success, true, JSON.stringify(result));
  const listed = await client.callTool({ name: "list_sandboxes", arguments: {} });
  const ids = listed.structuredContent.sandboxes.map((entry) => entry.id);
  assert.ok(!ids.includes(sandboxId), "the removed sandbox is still listed");
});

await check("close", async () => {
  await client.close();
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
