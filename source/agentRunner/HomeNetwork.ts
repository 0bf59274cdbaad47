// The home's own bridge network (local Linux engines): the agent-runner joins it instead of the host's
// network namespace. Owning one per home, rather than joining the engine's default bridge, gives:
// no traffic with other containers (the engine isolates its bridges from one another), a gateway
// address the engine reports in the network's IPAM config (the default bridge leaves it out on Docker
// 20.10), a subnet that holds our container only (the LLM forward accepts that subnet and nothing
// else), and no clash between two homes forwarding the same LLM port.
import { labels } from '../contract.js';
import { UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { type DockerApi, engineMessage, engineStatus, orNull } from '../engine/DockerApi.js';

export interface HomeNetwork {
	name: string;
	/** the host's address on this network: where the LLM forward listens */
	gateway: string;
	/** IPv4 CIDR of the network */
	subnet: string;
}

interface NetworkInspect {
	Name: string;
	Labels: Record<string, string> | null;
	IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
}

function fromInspect(inspect: NetworkInspect): HomeNetwork | null {
	const config = (inspect.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':') && c.Gateway);
	return config ? { name: inspect.Name, gateway: config.Gateway!.replace(/\/\d+$/, ''), subnet: config.Subnet! } : null;
}

/** The home's network, created (labelled) when missing. */
export async function ensureHomeNetwork(api: DockerApi, home: StigmerHome): Promise<HomeNetwork> {
	const name = home.networkName;
	const network = api.docker.getNetwork(name);
	let inspect = (await orNull(network.inspect())) as NetworkInspect | null;
	if (inspect && inspect.Labels?.[labels.home] !== home.hash) {
		throw new UserError(`the engine has a network named ${name} that stigmer did not create for ${home.dir}`, 1, `remove or rename it (docker network rm ${name})`);
	}
	if (!inspect) {
		try {
			await api.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [labels.managed]: 'true', [labels.home]: home.hash } });
		} catch (error) {
			// 409: a concurrent start made it first
			if (engineStatus(error) !== 409) {
				const message = engineMessage(error);
				throw new UserError(
					`cannot create the network ${name}: ${message}`,
					1,
					/pool/i.test(message) ? 'the engine ran out of address pools: docker network prune removes unused networks' : undefined,
				);
			}
		}
		inspect = (await network.inspect()) as NetworkInspect;
	}
	const found = fromInspect(inspect);
	if (!found) throw new UserError(`the network ${name} has no IPv4 subnet and gateway in its IPAM config`, 1, `docker network rm ${name}, then start again`);
	return found;
}

/** Removes the home's network; a network still in use or already gone is left alone. */
export async function removeHomeNetwork(api: DockerApi, home: StigmerHome): Promise<void> {
	const name = home.networkName;
	const network = api.docker.getNetwork(name);
	const inspect = (await orNull(network.inspect())) as NetworkInspect | null;
	if (!inspect || inspect.Labels?.[labels.home] !== home.hash) return;
	try {
		await network.remove();
	} catch (error) {
		const code = engineStatus(error);
		if (code === 404 || code === 403 || code === 409) return; // gone, or a container still uses it
		throw error;
	}
}
