import { defaultTimeouts, exitCodes } from '../../contract.js';
import { stopStack } from '../../stack/stop.js';
import type { CommandArgs, CommandContext } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { parseTimeout } from './start.js';

export default async function stop(ctx: CommandContext, { flags, input }: CommandArgs<'server stop'>): Promise<number> {
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	try {
		await stopStack(ctx.home, { services: input, timeoutSeconds: parseTimeout(flags.timeout, defaultTimeouts.stopSeconds), volumes: flags.volumes === true, onEvent: (e) => progress.stackEvent(e) });
	} finally {
		progress.stop();
	}
	return exitCodes.ok;
}
