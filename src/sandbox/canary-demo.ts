/**
 * The sandbox's canary demo: a small traffic generator and the fault knobs a person turns from the
 * console. The generator scores the demo endpoint through the production serving client at a modest
 * rate, so its inference table fills, only while a rollout holds the endpoint or while the console's
 * "send traffic" knob is on. The fault knobs make the canary of the rollout in flight (whichever
 * version that is: v3 on a fresh sandbox, v4 after the story's retraining) answer errors or slowly,
 * so a rollback can be seen. Nothing here calls the bot: it only reads which rollout holds the
 * endpoint, and acts on Databricks (the twin) like a client and a misbehaving model would.
 */
import { staticTokenProvider } from '../databricks/auth.js';
import { createDatabricksHttp } from '../databricks/http.js';
import { createServingClient } from '../databricks/serving.js';
import type { WorkspaceTwin } from './workspace/server.js';
import type { ModelVersion } from './workspace/state.js';

/** One switch on the console's sandbox panel. */
export interface SandboxKnob {
  id: 'traffic' | 'canary_errors' | 'canary_slow';
  label: string;
  on: boolean;
}

/** What the console shows and sets. */
export interface SandboxKnobs {
  list(): SandboxKnob[];
  /** Sets a knob; unknown ids are refused (false). */
  set(id: string, on: boolean): boolean;
}

export interface CanaryDemo {
  knobs: SandboxKnobs;
  /** Runs one beat (a test's way in; the timer calls it too). */
  beat(): Promise<void>;
  stop(): void;
}

export interface CanaryDemoOptions {
  workspace: WorkspaceTwin;
  endpoint: string;
  model: string;
  /** The canary in flight on the endpoint: its model version, or undefined when no rollout holds it. */
  canaryOf: (endpoint: string) => Promise<{ model: string; version: string } | undefined>;
  /** Scoring requests per second while traffic flows (default 4). */
  ratePerSecond?: number;
  /** Off in tests that call beat() themselves. */
  timer?: boolean;
}

/** What the fault knobs do to the canary: half its requests 5xx, or 60 ms more model time. */
const CANARY_ERROR_RATE = 0.5;
const CANARY_EXTRA_MS = 60;

/** @example const demo = startCanaryDemo({ workspace, endpoint: 'churn-endpoint', model, canaryOf }); demo.knobs.set('traffic', true); */
export function startCanaryDemo(options: CanaryDemoOptions): CanaryDemo {
  const { workspace, endpoint } = options;
  const serving = createServingClient(
    createDatabricksHttp({ host: workspace.url, tokens: staticTokenProvider(workspace.token) }),
  );
  const knobs: SandboxKnob[] = [
    { id: 'traffic', label: 'Send traffic to churn-endpoint', on: false },
    { id: 'canary_errors', label: 'Canary answers 50% errors', on: false },
    { id: 'canary_slow', label: 'Canary is 60 ms slower', on: false },
  ];
  const isOn = (id: SandboxKnob['id']) => knobs.find((k) => k.id === id)?.on ?? false;
  // Each version's own behaviour, kept so a knob turned off (or a canary no longer in flight) gets it back.
  const own = new Map<ModelVersion, ModelVersion['behaviour']>();
  let n = 0;
  let busy = false;

  function applyFaults(canary: { model: string; version: string } | undefined): void {
    const model = workspace.state.models.get(options.model.toLowerCase());
    for (const mv of model?.versions.values() ?? []) {
      if (!own.has(mv)) own.set(mv, mv.behaviour);
      const base = own.get(mv);
      const isCanary =
        canary !== undefined &&
        canary.model.toLowerCase() === options.model.toLowerCase() &&
        String(mv.version) === canary.version;
      const errors = isCanary && isOn('canary_errors');
      const slow = isCanary && isOn('canary_slow');
      if (!errors && !slow) {
        if (base === undefined) delete mv.behaviour;
        else mv.behaviour = base;
        continue;
      }
      mv.behaviour = {
        bias: base?.bias ?? 0,
        ...(errors ? { errorRate: CANARY_ERROR_RATE } : base?.errorRate ? { errorRate: base.errorRate } : {}),
        latencyMs: (base?.latencyMs ?? 0) + (slow ? CANARY_EXTRA_MS : 0),
      };
    }
  }

  async function beat(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const canary = await options.canaryOf(endpoint).catch(() => undefined);
      applyFaults(canary);
      if (!canary && !isOn('traffic')) return;
      n++;
      await serving
        .query(endpoint, {
          records: [
            {
              tenure: 1 + (n % 60),
              monthly_charges: 40 + (n % 80),
              contract: n % 3 === 0 ? 'One year' : 'Month-to-month',
              senior_citizen: n % 5 === 0 ? 1 : 0,
            },
          ],
          clientRequestId: `sandbox-traffic-${n}`,
        })
        // A canary answering errors is the point of the fault knob; nothing to report.
        .catch(() => undefined);
    } finally {
      busy = false;
    }
  }

  const period = Math.max(50, Math.round(1000 / (options.ratePerSecond ?? 4)));
  const timer = options.timer === false ? undefined : setInterval(() => void beat(), period);
  timer?.unref();

  return {
    knobs: {
      list: () => knobs.map((k) => ({ ...k })),
      set(id, on) {
        const knob = knobs.find((k) => k.id === id);
        if (!knob) return false;
        knob.on = on;
        return true;
      },
    },
    beat,
    stop() {
      if (timer) clearInterval(timer);
      applyFaults(undefined);
    },
  };
}
