// Which services a command acts on: SERVICE... checked against config.yaml, or, when config.yaml is
// invalid, the services that run (so stop and status still work on them).
import { ConfigError, defaultConfig, loadConfig } from '../config/loadConfig.js';
import type { StigmerConfig } from '../config/types.js';
import { agentRunnerService } from '../contract.js';
import { UsageError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { nativeState } from '../supervisor/SupervisorClient.js';

export function serviceNames(config: StigmerConfig): string[] {
	return [...config.services.map((s) => s.name), agentRunnerService];
}

/** Validates SERVICE... arguments against the configuration (exit 2 naming the known ones). */
export function selectServices(config: StigmerConfig, wanted: string[] | undefined): string[] {
	const known = serviceNames(config);
	if (!wanted || wanted.length === 0) return known;
	for (const name of wanted) {
		if (!known.includes(name)) throw new UsageError(`unknown service "${name}"`, `known services: ${known.join(', ')}`);
	}
	return known.filter((name) => wanted.includes(name));
}

/**
 * config.yaml, or when it is invalid a stand-in built from what runs: the defaults for the container, and
 * as natives the services the supervisor (or the processes, homeNatives.ts) knows of. `invalid` says why.
 */
export async function configOrRunning(home: StigmerHome): Promise<{ config: StigmerConfig; invalid: ConfigError | null }> {
	try {
		return { config: loadConfig(home), invalid: null };
	} catch (error) {
		if (!(error instanceof ConfigError)) throw error;
		const known = (await nativeState(home)).services;
		const services = known.map((s) => ({ name: s.name, command: s.command ?? [s.name], args: [], cwd: null, env: {}, ready: null, optional: false, restart: 'never' as const }));
		return { config: { ...defaultConfig(home), services }, invalid: error };
	}
}
