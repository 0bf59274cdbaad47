#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import { enableCompileCache } from './compileCache.js';

// V8's compiled code of every module loaded from here on (the command, dockerode, meow when it parses)
// is kept on disk, in the user's own cache directory, and reused by the next run: see compileCache.ts.
enableCompileCache();
const { runCli } = await import('./runCli.js');
runCli(process.argv.slice(2));
