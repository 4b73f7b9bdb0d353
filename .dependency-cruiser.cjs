/**
 * Who may import whom (docs/architecture.md): cli → server → faces → core → {store, bus, jobs};
 * engine → {ai, carriers, bus, core}; config is read by all. `npm run lint` fails on a break.
 */
module.exports = {
  forbidden: [
    { name: 'core-not-faces-or-engine', severity: 'error', from: { path: '^src/core' }, to: { path: '^src/(faces|engine|server|cli|app)' } },
    // core/calls/persona.ts is shared vocabulary; the brain interface lives in engine and re-exports it.
    { name: 'engine-not-faces', severity: 'error', from: { path: '^src/engine' }, to: { path: '^src/(faces|server|cli|app)' } },
    { name: 'faces-not-store-or-engine', severity: 'error', from: { path: '^src/faces' }, to: { path: '^src/(store|engine|carriers|ai|jobs)', dependencyTypesNot: ['type-only'] } },
    { name: 'ai-not-carriers', severity: 'error', from: { path: '^src/ai' }, to: { path: '^src/carriers' } },
    { name: 'carriers-not-ai', severity: 'error', from: { path: '^src/carriers' }, to: { path: '^src/ai' } },
    { name: 'ai-and-carriers-not-core-services', severity: 'error', from: { path: '^src/(ai|carriers)' }, to: { path: '^src/(faces|server|cli|app|jobs|store)' } },
    { name: 'store-bus-jobs-not-core', severity: 'error', from: { path: '^src/(store|bus|jobs)', pathNot: '^src/store/schema\\.ts$' }, to: { path: '^src/(core|engine|faces|carriers|ai|server|cli|app)' } },
    // The schema names the core's types of its JSON columns (calls.request, call_events.data): types only.
    { name: 'store-schema-core-types-only', severity: 'error', from: { path: '^src/store/schema\\.ts$' }, to: { path: '^src/(core|engine|faces|carriers|ai|server|cli|app)', dependencyTypesNot: ['type-only'] } },
    { name: 'store-schema-core-calls-only', severity: 'error', from: { path: '^src/store/schema\\.ts$' }, to: { path: '^src/(engine|faces|carriers|ai|server|cli|app)' } },
    // Offline audio (espeak-ng, sox, lame) is a leaf: the simulated network, the core and the AI adapters use it.
    { name: 'speech-is-a-leaf', severity: 'error', from: { path: '^src/speech' }, to: { path: '^src/(?!speech/|lib/)' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true, dependencyTypesNot: ['type-only'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
