export * from './dashboardState.js';
export * from './dashboardReducer.js';
export * from './DashboardStore.js';
export * from './LogBook.js';
export * from './LogRing.js';
export * from './logView.js';
