/** Signed webhook deliveries: signing, target rules, the durable delivery job, test sends and the log. */
export * from './sign.js';
export * from './target.js';
export * from './deliver.js';
export * from './test-send.js';
export * from './list.js';
export * from './dead-letter.js';
export * from './service.js';
