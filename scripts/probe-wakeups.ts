// What a wake-up costs on this machine: a loopback TCP round trip (100 bytes each way) to an echo
// server in the same process and in another process, one at a time, with the latency and the CPU
// the client spent per round trip (user and system). Each publish and each delivery crosses
// processes several times (docs/performance.md, "Why three targets are still missed"), so this is
// the floor under their cost at low rates; a virtual machine can make it much dearer than the
// syscalls themselves. Not part of the test run.
//
//   npx tsx scripts/probe-wakeups.ts            # PROBE_ROUND_TRIPS=20000 by default
//   taskset -c 0 npx tsx scripts/probe-wakeups.ts   # both processes on one CPU: no cross-CPU wake-up
import { fork } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';

const ROUND_TRIPS = Number(process.env.PROBE_ROUND_TRIPS ?? 20_000);
const MESSAGE = 'x'.repeat(100);

function echoServer(): Promise<Server> {
  const server = createServer((socket) => socket.on('data', (d) => socket.write(d)));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Sends a message, waits for its echo, ROUND_TRIPS times; the latency and client CPU per round trip in µs. */
function pingPong(port: number): Promise<{ latencyUs: number; cpuUs: number; systemUs: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      let done = 0;
      const started = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      socket.on('data', () => {
        if (++done < ROUND_TRIPS) return void socket.write(MESSAGE);
        const used = process.cpuUsage(cpu);
        socket.destroy();
        resolve({
          latencyUs: Number(process.hrtime.bigint() - started) / 1000 / ROUND_TRIPS,
          cpuUs: (used.user + used.system) / ROUND_TRIPS,
          systemUs: used.system / ROUND_TRIPS,
        });
      });
      socket.write(MESSAGE);
    });
    socket.on('error', reject);
  });
}

const format = (r: { latencyUs: number; cpuUs: number; systemUs: number }): string =>
  `${r.latencyUs.toFixed(1)} µs a round trip, client CPU ${r.cpuUs.toFixed(1)} µs (system ${r.systemUs.toFixed(1)} µs)`;

async function main(): Promise<void> {
  if (process.argv[2] === 'serve') {
    const server = await echoServer();
    process.send?.((server.address() as AddressInfo).port);
    return;
  }
  const local = await echoServer();
  console.log(`same process:  ${format(await pingPong((local.address() as AddressInfo).port))}`);
  local.close();
  const child = fork(__filename, ['serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (p) => resolve(Number(p))));
  console.log(`other process: ${format(await pingPong(port))}`);
  child.kill();
}

void main();
