/** Runs `act(i)` for i in [0, total) at `rate` per second, not waiting for one to finish before starting the next. */
export async function steady(total: number, rate: number, act: (i: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(act(i));
  }
  await Promise.all(running);
}
