import { defaultTimeouts, exitCodes } from '../../contract.js';
import { restartStack } from '../../stack/restart.js';
import type { CommandArgs, CommandContext } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { parseTimeout } from './start.js';
import { printStatusTable } from './statusTable.js';

export default async function restart(ctx: CommandContext, { flags, input }: CommandArgs<'server restart'>): Promise<number> {
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	try {
		const status = await restartStack(ctx.home, { services: input, timeoutSeconds: parseTimeout(flags.timeout, defaultTimeouts.startSeconds), onEvent: (e) => progress.stackEvent(e) });
		progress.stop();
		printStatusTable(ctx, status);
	} finally {
		progress.stop();
	}
	return exitCodes.ok;
}
