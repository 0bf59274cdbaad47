import { exitCodes } from '../../contract.js';
import { restartStack } from '../../stack/Stack.js';
import { type CommandContext, parseCommandArgs } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { parseTimeout } from './start.js';
import { printStatusTable } from './statusTable.js';

const usage = `
  Usage: stigmer server restart [SERVICE...] [--timeout S]

  Stops, then starts all or the named services, and waits until they are ready.
`;

export default async function restart(ctx: CommandContext): Promise<number> {
	const { values, positionals } = parseCommandArgs(ctx, 'server restart', { timeout: { type: 'string' } });
	if (values.help) {
		ctx.stdout.write(usage);
		return exitCodes.ok;
	}
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	try {
		const status = await restartStack(ctx.home, { services: positionals, timeoutSeconds: parseTimeout(values.timeout, 120), onEvent: (e) => progress.stackEvent(e) });
		progress.stop();
		printStatusTable(ctx, status);
	} finally {
		progress.stop();
	}
	return exitCodes.ok;
}
