// `stigmer server restart` and the dashboard's restart: stop, then start, the same services.
import { loadConfig } from '../config/loadConfig.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { StackStatus } from '../serviceStatus.js';
import type { StartOptions } from './options.js';
import { selectServices, serviceNames } from './selection.js';
import { startStack } from './start.js';
import { stopStack } from './stop.js';

export async function restartStack(home: StigmerHome, options: StartOptions = {}): Promise<StackStatus> {
	const config = options.config ?? loadConfig(home);
	const selected = selectServices(config, options.services);
	await stopStack(home, { ...options, config, services: selected.length === serviceNames(config).length ? undefined : selected });
	return startStack(home, { ...options, config, services: selected });
}
