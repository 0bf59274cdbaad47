import { exitCodes } from '../../contract.js';
import { UsageError } from '../../errors.js';
import { startStack } from '../../stack/Stack.js';
import { type CommandContext, parseCommandArgs } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { printStatusTable } from './statusTable.js';

const usage = `
  Usage: stigmer server start [SERVICE...] [--build] [--timeout S] [--no-wait]

  Builds the agent-runner image when it is missing, starts the native services in order, then the
  agent-runner container, and waits until every one is ready. Running services are left as they are.

  --build        rebuild the image first
  --timeout S    seconds to wait for readiness (default 120); exit 4 when exceeded
  --no-wait      return once everything is started, without waiting for readiness
`;

export function parseTimeout(value: string | undefined, fallback: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout takes a number of seconds, not "${value}"`);
	return n;
}

export default async function start(ctx: CommandContext): Promise<number> {
	const { values, positionals } = parseCommandArgs(ctx, 'server start', {
		build: { type: 'boolean' },
		timeout: { type: 'string' },
		'no-wait': { type: 'boolean' },
	});
	if (values.help) {
		ctx.stdout.write(usage);
		return exitCodes.ok;
	}
	const timeoutSeconds = parseTimeout(values.timeout, 120);
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	const abort = new AbortController();
	const onSignal = () => {
		if (abort.signal.aborted) process.exit(exitCodes.interrupted);
		progress.activity('interrupted: stopping what was started (Ctrl-C again to leave at once)');
		abort.abort();
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	try {
		const status = await startStack(ctx.home, {
			build: values.build,
			timeoutSeconds,
			wait: !values['no-wait'],
			services: positionals,
			signal: abort.signal,
			onEvent: (e) => progress.stackEvent(e),
		});
		progress.stop();
		printStatusTable(ctx, status);
		return exitCodes.ok;
	} finally {
		progress.stop();
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
	}
}
