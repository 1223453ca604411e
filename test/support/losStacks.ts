/** Stacks of one test file that share an LOS stand-in: started on demand, all stopped with it after the file. */
import { startLos, type Los } from '../../dev/losStandIn';
import { startStack, type Stack, type StackOptions } from './stack';

export interface LosStacks {
  /** The LOS stand-in (from the file's first `beforeAll` on). */
  los(): Los;
  start(name: string, options?: Omit<StackOptions, 'name' | 'los'>): Promise<Stack>;
  stopAll(): Promise<void>;
}

export function losStacks(): LosStacks {
  const stacks: Stack[] = [];
  let los: Los | undefined;
  const stopAll = async () => {
    await Promise.all(stacks.map((s) => s.stop()));
  };
  beforeAll(async () => {
    los = await startLos();
  });
  afterAll(async () => {
    await stopAll();
    await los?.close();
  });
  return {
    los: () => los!,
    async start(name, options = {}) {
      const stack = await startStack({ name, los: los!, ...options });
      stacks.push(stack);
      return stack;
    },
    stopAll,
  };
}
