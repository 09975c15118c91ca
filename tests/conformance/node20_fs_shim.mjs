// Lets @modelcontextprotocol/conformance 0.2.x (written for Node >= 22) run on Node 20: it imports
// `globSync` from "fs", which Node 20 lacks, and only calls it as globSync("**/<name>", {cwd}) to find
// result files. Registered with `node --import`; every other import of "fs" is left alone.
import { register } from "node:module";

if (!("globSync" in (await import("node:fs")))) {
  register("data:text/javascript," + encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if ((specifier === "fs" || specifier === "node:fs") && !context.parentURL?.startsWith("data:")) {
        return { url: "data:text/javascript,export * from 'node:fs'; import fs from 'node:fs';" +
          "import path from 'node:path'; export default fs;" +
          "export function globSync(pattern, options = {}) {" +
          "  const cwd = options.cwd || process.cwd();" +
          "  const name = pattern.split('/').pop();" +
          "  const deep = pattern.startsWith('**/');" +
          "  return fs.readdirSync(cwd, { recursive: deep }).map(String)" +
          "    .filter((p) => path.basename(p) === name && (deep || p === name)); }",
          shortCircuit: true };
      }
      return next(specifier, context);
    }`));
}
