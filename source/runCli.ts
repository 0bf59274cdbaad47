// What the CLI does once its compile cache is on: run the command named by `argv`, and set the exit code.
// Shared by cli.ts (npm, a checkout) and the single executable's launcher (sea/seaLauncher.ts), which loads
// it with require(): so no top-level await here.
import { exitCodes } from './contract.js';
import { main, reportError } from './main.js';

export function runCli(argv: string[]): void {
	// A closed pipe (`stigmer server logs | head`) ends quietly.
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') process.exit(exitCodes.ok);
		throw error;
	});

	main(argv).then(
		(code) => {
			process.exitCode = code;
		},
		(error: unknown) => {
			process.exitCode = reportError(error);
		},
	);
}
