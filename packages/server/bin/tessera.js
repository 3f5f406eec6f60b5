#!/usr/bin/env node
// The `tessera` command, from the build (npm install builds it; see the root package.json).
import '../dist/cli/main.js';
