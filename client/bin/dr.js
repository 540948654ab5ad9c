#!/usr/bin/env node
// The `dr` command: loads the TypeScript CLI through tsx, so no build step stands between a fix and a run.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher: require is the point */
require('tsx/cjs');
require('../cli.ts');
