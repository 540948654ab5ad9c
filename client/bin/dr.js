#!/usr/bin/env node
// The `dr` command: loads the TypeScript CLI through tsx, so no build step stands between a fix and a run.
require('tsx/cjs');
require('../cli.ts');
