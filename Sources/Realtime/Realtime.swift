// The realtime WebSocket service (`GET /api/v1/realtime`) lives in this module: connections, the
// hub, subscriptions, presence and typing, delivering the event log that Store writes. It imports
// Models, Store and Auth, never API. Nothing is here yet; the module exists so the package's shape
// is the one the design describes.
