#!/usr/bin/env node
// Entry point. Everything else is loaded lazily by main.ts, per command.
import { exitCodes } from './contract.js';
import { main, reportError } from './main.js';

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
