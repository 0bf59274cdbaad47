import { defaultTimeouts, exitCodes } from '../../contract.js';
import { UsageError } from '../../errors.js';
import { startStack } from '../../stack/start.js';
import type { CommandArgs, CommandContext } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { printStatusTable } from './statusTable.js';

export function parseTimeout(value: string | undefined, fallback: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout takes a number of seconds, not "${value}"`);
	return n;
}

export default async function start(ctx: CommandContext, { flags, input }: CommandArgs<'server start'>): Promise<number> {
	const timeoutSeconds = parseTimeout(flags.timeout, defaultTimeouts.startSeconds);
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	const abort = new AbortController();
	let started = false;
	const onSignal = () => {
		if (abort.signal.aborted || started) {
			// past the start's last check there is nothing left to undo: say so, leave the stack as it is
			if (started) ctx.stderr.write('interrupted after the start finished: the stack stays up (stop it with `stigmer server stop`)\n');
			process.exit(exitCodes.interrupted);
		}
		progress.activity('interrupted: stopping what was started (Ctrl-C again to leave at once)');
		abort.abort();
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	try {
		const status = await startStack(ctx.home, {
			build: flags.build === true,
			timeoutSeconds,
			wait: flags.wait,
			services: input,
			signal: abort.signal,
			onEvent: (e) => progress.stackEvent(e),
		});
		started = true;
		progress.stop();
		printStatusTable(ctx, status);
		return exitCodes.ok;
	} finally {
		progress.stop();
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
	}
}
