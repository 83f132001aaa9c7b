// Injected into the CommonJS bundles (scripts/bundle.js): `import.meta.url` there is the bundle's
// own file, so that a module that starts worker threads on itself (src/bench/load-threads.ts)
// starts them on the bundle that holds it.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
