// The processes inside a container, read from its /proc through `docker exec` (the image has no ps).
import { docker } from './docker.js';

export interface ContainerProcess {
	pid: number;
	/** real uid */
	uid: number;
	/** first letter of /proc/PID/status State (Z: zombie) */
	state: string;
	cmdline: string;
	/** /proc/PID/comm: the process's name (the service forked in process names itself `stigmer-service`) */
	name: string;
	/** /proc/PID/status CapBnd: the capabilities the process could ever hold (bit numbers of linux/capability.h) */
	capBnd: bigint;
}

const listProcesses = `
import json, os
found = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open("/proc/%s/status" % pid).read()
        cmdline = open("/proc/%s/cmdline" % pid, "rb").read()
    except OSError:
        continue
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    found.append({"pid": int(pid), "uid": int(fields["Uid"].split()[0]), "state": fields["State"].strip()[:1],
                  "cmdline": cmdline.replace(b"\\0", b" ").decode(errors="replace").strip(), "name": fields["Name"].strip(),
                  "capBnd": fields["CapBnd"].strip()})
print(json.dumps(found))
`;

export async function containerProcesses(container: string): Promise<ContainerProcess[]> {
	const { stdout } = await docker(['exec', container, 'python3', '-c', listProcesses], { timeoutMs: 30_000 });
	return (JSON.parse(stdout) as (Omit<ContainerProcess, 'capBnd'> & { capBnd: string })[]).map((p) => ({ ...p, capBnd: BigInt(`0x${p.capBnd}`) }));
}

/** The agent-runner's HTTP service: the sandbox launcher's child, which runs it in process and names itself so (sandbox_launcher.py). */
export async function serviceProcess(container: string): Promise<ContainerProcess> {
	const found = (await containerProcesses(container)).find((p) => p.name === 'stigmer-service');
	if (!found) throw new Error(`no service process in ${container}`);
	return found;
}
