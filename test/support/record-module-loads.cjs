// Preloaded (node --require) by test/warm-start.int.test.ts: appends every module a process loads,
// with the time it asked for it, to the file named by HOOKRELAY_MODULE_LOG.
const { appendFileSync } = require('node:fs');
const Module = require('node:module');

const file = process.env.HOOKRELAY_MODULE_LOG;
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (file) appendFileSync(file, `${Date.now()} ${request} <- ${parent && parent.filename ? parent.filename : '?'}\n`);
  return load.call(this, request, parent, isMain);
};
