/**
 * `node --import tsx bench/ipc.ts`: the cost of crossing to the inference host and back, for
 * the payloads a job sends: a photo (4 MB), an aligned crop (192 KiB), a z+ code (36 KiB) and a
 * 1024² JPEG result (~300 KB), over the same channel (`fork`, `serialization: 'advanced'`) to an
 * echo child. Median of 20 round trips each.
 */
import { fork } from 'node:child_process';

if (process.argv[2] === 'echo') {
  process.on('message', (m) => process.send!(m));
  process.on('disconnect', () => process.exit(0));
  process.send!('ready');
} else {
  const child = fork(import.meta.filename, ['echo'], {
    serialization: 'advanced',
    execArgv: ['--import', import.meta.resolve('tsx')],
  });
  await new Promise((resolve) => child.once('message', resolve));
  const roundTrip = (payload: unknown) =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      child.once('message', () => resolve(performance.now() - start));
      child.send({ payload });
    });
  const cases: [string, unknown][] = [
    ['photo, 1 MB Uint8Array', new Uint8Array(1024 * 1024).fill(7)],
    ['photo, 4 MB Uint8Array', new Uint8Array(4 * 1024 * 1024).fill(7)],
    ['photo, 8 MB Uint8Array', new Uint8Array(8 * 1024 * 1024).fill(7)],
    ['aligned crop, 256²×3 Uint8Array', new Uint8Array(256 * 256 * 3).fill(7)],
    ['z+ code, 18×512 Float32Array', new Float32Array(18 * 512).fill(0.5)],
    ['1024² JPEG result, 300 KB', new Uint8Array(300 * 1024).fill(7)],
  ];
  console.log('| payload | round trip, median of 20 |');
  console.log('|---|---|');
  for (const [name, payload] of cases) {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await roundTrip(payload));
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${times[10]!.toFixed(2)} ms |`);
  }
  child.disconnect();
}
