export * from '../context.js'; // Moved to electron/core/context.ts (authority/ needs it and may not import services/); removed once nothing imports this path.
