export { LogCapture } from './log-capture.js';
export { startTestService, type TestService } from './start-test-service.js';
