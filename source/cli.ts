#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import module from 'node:module';
import { exitCodes } from './contract.js';
import { main, reportError } from './main.js';

// The compiled code of what a command loads from here on (the command itself, dockerode: ≈110 ms on an
// idle machine) is cached on disk (os.tmpdir()/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 turns
// it off): measured with bench/lifecycle.ts, see docs/architecture.md.
module.enableCompileCache?.();

// A closed pipe (`stigmer server logs | head`) ends quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EPIPE') process.exit(exitCodes.ok);
	throw error;
});

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.exitCode = reportError(error);
	},
);
