#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import module from 'node:module';

// V8's compiled code of every module loaded from here on is kept on disk (Node's compile cache, in the
// temporary directory) and reused by the next run: `--help` and `server status` compile meow's bundled
// dependencies and the command's modules once, not on every run.
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
