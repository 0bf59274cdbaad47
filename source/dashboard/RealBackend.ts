import type { CommandContext } from '../commands/CommandContext.js';
import type { DashboardBackend } from './DashboardBackend.js';

export async function createRealBackend(_ctx: CommandContext): Promise<DashboardBackend> {
	throw new Error('not wired yet');
}
