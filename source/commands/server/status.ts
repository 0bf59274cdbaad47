import { exitCodes } from '../../contract.js';
import { stackStatus } from '../../stack/status.js';
import type { CommandArgs, CommandContext } from '../CommandContext.js';
import { printStatusTable } from './statusTable.js';

export default async function status(ctx: CommandContext, { flags }: CommandArgs<'server status'>): Promise<number> {
	const result = await stackStatus(ctx.home);
	if (flags.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
	else printStatusTable(ctx, result);
	// the rows are printed all the same: natives are known without the engine
	return result.engine.reachable ? exitCodes.ok : exitCodes.engineUnreachable;
}
