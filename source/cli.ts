#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import { enableCompileCache } from './compileCache.js';

// V8's compiled code of every module loaded from here on (the command, dockerode, meow when it parses)
// is kept on disk, in the user's own cache directory, and reused by the next run: see compileCache.ts.
enableCompileCache();
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
