/**
 * `stapvirt`: SystemTap's libvirt helper, in TypeScript, speaking libvirt's
 * RPC protocol itself (libvirt/). `connect DOMAIN` relays stdin/stdout to a
 * free `org.systemtap.stapsh.N` channel of the domain (hot-plugging one when
 * none is free); that is what `stap --remote=libvirt://DOMAIN` runs.
 */
// @ts-nocheck


import { InvalidArgumentError } from 'commander';
import { cliProgram, cliSubcommand, parseCli } from '../common/cli.js';
import { describeError } from '../common/words.js';
import { ChannelInfo, channelsOf, LibvirtClient, LibvirtError, STAPSH_PORT, type Channel } from '../../libvirt/client.js';
import { DOMAIN_STATES, VIR_DOMAIN_AFFECT_CONFIG, VIR_DOMAIN_AFFECT_LIVE, type Domain } from '../../libvirt/rpc.js';

const DEFAULT_URI = 'qemu:///system';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function stapshPorts(xml: string): ChannelInfo[] {
  return channelsOf(xml)
    .filter((c) => STAPSH_PORT.test(c.name))
    .sort((a, b) => Number(STAPSH_PORT.exec(a.name)![1]) - Number(STAPSH_PORT.exec(b.name)![1]));
}

const portXml = (name: string) => `<channel type='unix'><target type='virtio' name='${name}'/></channel>`;

async function addPort(client: LibvirtClient, dom: Domain, xml: string): Promise<string> {
  const used = new Set(stapshPorts(xml).map((c) => c.name));
  let n = 0;
  while (used.has(`org.systemtap.stapsh.${n}`)) n++;
  const name = `org.systemtap.stapsh.${n}`;
  // Hot-plugged into a running domain (a transient one has no config); into the config of a stopped one.
  await client.attachDevice(dom, portXml(name), dom.id === -1 ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE);
  return name;
}

/** stdin → channel, channel → stdout, with backpressure both ways; resolves with the exit status. */
function relay(channel: Channel, log: (s: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let done = false;
    const end = (code: number) => {
      if (done) return;
      done = true;
      process.stdin.pause();
      // Every byte for stdout is written before we exit.
      if (process.stdout.writableLength === 0) resolve(code);
      else process.stdout.once('drain', () => resolve(code));
    };
    channel.onData = (bytes) => {
      if (!process.stdout.write(bytes)) {
        channel.pause();
        process.stdout.once('drain', () => channel.resume());
      }
    };
    channel.onEnd = (error) => {
      if (error !== null) process.stderr.write(`stapvirt: the channel ended: ${error}\n`);
      else log('the channel ended');
      end(error === null ? 0 : 1);
    };
    process.stdin.on('data', (chunk: Buffer) => {
      process.stdin.pause();
      channel.write(chunk).then(
        () => {
          if (!done) process.stdin.resume();
        },
        (e: unknown) => {
          process.stderr.write(`stapvirt: writing to the channel failed: ${String(e)}\n`);
          end(1);
        },
      );
    });
    process.stdin.on('end', () => {
      log('stdin ended: finishing the channel');
      void channel.finish().then(() => end(0));
    });
    // stap ends its relay with a signal once the session is over (measured with stap 4.8): finish the
    // channel as on EOF and exit 0, so the run does not count as failed.
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
      process.once(signal, () => {
        log(`${signal}: finishing the channel`);
        void channel.finish().then(() => end(0));
      });
    }
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  let verbose = false;
  let uri = DEFAULT_URI;
  const log = (s: string) => {
    if (verbose) process.stderr.write(`stapvirt: ${s}\n`);
  };
  const program = cliProgram(
    'stapvirt',
    "SystemTap's libvirt helper: lists domains and their stapsh ports, and relays stdin/stdout to a guest's stapsh over a virtio-serial channel (libvirt RPC over its local socket; root only)",
  )
    .option('-c, --connect <URI>', 'libvirt URI', DEFAULT_URI)
    .option('-v, --verbose', 'say what happens on stderr')
    .option('--timeout <S>', 'bound on every libvirt call, in seconds', seconds, 30);

  const withClient = (fn: (client: LibvirtClient) => Promise<void>) => async () => {
    const o = program.opts<{ connect: string; verbose?: boolean; timeout: number }>();
    uri = o.connect;
    verbose = o.verbose === true;
    const client = await LibvirtClient.open({ uri, timeoutMs: o.timeout * 1000, log });
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  };
  const domain = async (client: LibvirtClient, name: string) => {
    try {
      return await client.lookupDomain(name);
    } catch (e) {
      throw new LibvirtError(`domain '${name}': ${(e as Error).message}`);
    }
  };

  cliSubcommand(program, 'list').description('list the domains').action(
    withClient(async (client) => {
      for (const d of await client.listAllDomains()) process.stdout.write(`${d.name}\n`);
    }),
  );
  cliSubcommand(program, 'port-list').argument('<DOMAIN>').description("list the domain's stapsh ports").action((name: string) =>
    withClient(async (client) => {
      const dom = await domain(client, name);
      for (const c of stapshPorts(await client.domainXml(dom))) process.stdout.write(`${c.name}\t${c.state ?? '-'}\n`);
    })(),
  );
  cliSubcommand(program, 'port-add').argument('<DOMAIN>').description('hot-plug a new stapsh port into the domain').action((name: string) =>
    withClient(async (client) => {
      const dom = await domain(client, name);
      const added = await addPort(client, dom, await client.domainXml(dom)).catch((e: unknown) => {
        throw new LibvirtError(`domain '${name}': cannot add a stapsh port: ${(e as Error).message}`);
      });
      process.stdout.write(`${added}\n`);
    })(),
  );
  cliSubcommand(program, 'port-remove').argument('<DOMAIN>').description('remove the last stapsh port from the domain').action((name: string) =>
    withClient(async (client) => {
      const dom = await domain(client, name);
      const ports = stapshPorts(await client.domainXml(dom));
      const last = ports.at(-1);
      if (last === undefined) throw new LibvirtError(`domain '${name}' has no stapsh port`);
      await client.detachDevice(dom, last.xml, dom.id === -1 ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE).catch((e: unknown) => {
        throw new LibvirtError(`domain '${name}': cannot remove ${last.name}: ${(e as Error).message}`);
      });
      process.stdout.write(`${last.name}\n`);
    })(),
  );
  cliSubcommand(program, 'query').argument('<DOMAIN>').description("the domain's state and its stapsh ports").action((name: string) =>
    withClient(async (client) => {
      const dom = await domain(client, name);
      const state = await client.domainState(dom);
      const ports = stapshPorts(await client.domainXml(dom));
      process.stdout.write(`domain: ${dom.name}\nstate: ${DOMAIN_STATES[state] ?? `state ${state}`}\nstapsh ports: ${ports.length}\n`);
      for (const c of ports) process.stdout.write(`  ${c.name}\t${c.state ?? '-'}\n`);
    })(),
  );
  cliSubcommand(program, 'connect').argument('<DOMAIN>').description('relay stdin/stdout to a free stapsh port (adding one when none is free)').action((name: string) =>
    withClient(async (client) => {
      const dom = await domain(client, name);
      if (dom.id === -1) throw new LibvirtError(`domain '${name}' is not running`);
      const xml = await client.domainXml(dom);
      // Ports whose guest is listening first; libvirt refuses a channel another client holds.
      const ports = stapshPorts(xml).sort((a, b) => Number(b.state === 'connected') - Number(a.state === 'connected'));
      let channel: Channel | null = null;
      const refusals: string[] = [];
      for (const p of ports) {
        try {
          channel = await client.openChannel(dom, p.name);
          log(`connected to ${p.name} (${p.state ?? 'state unknown'})`);
          break;
        } catch (e) {
          refusals.push(`${p.name}: ${(e as Error).message}`);
        }
      }
      if (channel === null) {
        const added = await addPort(client, dom, xml).catch((e: unknown) => {
          throw new LibvirtError(
            `domain '${name}': no free stapsh port${refusals.length ? ` (${refusals.join('; ')})` : ''}, and adding one failed: ${(e as Error).message}`,
          );
        });
        log(`no free stapsh port: added ${added}`);
        channel = await client.openChannel(dom, added).catch((e: unknown) => {
          throw new LibvirtError(`domain '${name}': cannot open ${added}: ${(e as Error).message}`);
        });
      }
      status = await relay(channel, log);
    })(),
  );

  try {
    const usage = await parseCli(program, argv);
    if (usage !== null) return usage;
  } catch (error) {
    process.stderr.write(`stapvirt: ${error instanceof LibvirtError ? error.message : describeError(error)}\n`);
    return 1;
  }
  return status;
}
