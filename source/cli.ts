#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import module from 'node:module';

// V8's compiled code of every module loaded from here on (meow's bundled dependencies, the command,
// dockerode: ≈110 ms on an idle machine) is kept on disk (os.tmpdir()/node-compile-cache;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off) and reused by the next run: see docs/architecture.md.
module.enableCompileCache?.();
const { exitCodes } = await import('./contract.js');
const { main, reportError } = await import('./main.js');

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
