import { index, route, type RouteConfig } from '@react-router/dev/routes';

export default [
  index('routes/dashboard.tsx'),
  route('login', 'routes/login.tsx'),
  route('login/verify', 'routes/login.verify.tsx'),
  route('login/canvas-error', 'routes/login.canvas-error.tsx'),
  route('auth/canvas', 'routes/auth.canvas.ts'),
  route('logout', 'routes/logout.tsx'),
  route('messages', 'routes/messages.tsx'),
  route('notifications', 'routes/notifications.tsx'),
  route('prescriptions', 'routes/prescriptions.tsx'),
  route('profile', 'routes/profile.tsx'),
  route('scheduling', 'routes/scheduling.tsx'),
  route('scheduling/appointments/:appointmentId/reschedule', 'routes/scheduling.reschedule.tsx'),
  route('scheduling/appointments/:appointmentId/cancel', 'routes/scheduling.cancel.tsx'),
  route('shipments', 'routes/shipments.tsx'),
  route('shipments/track/:trackingNumber', 'routes/shipments.track.tsx'),

  route('api/patient/auth/send-code', 'routes/api.patient.auth.send-code.ts'),
  route('api/patient/auth/verify', 'routes/api.patient.auth.verify.ts'),
  route('api/patient/auth/logout', 'routes/api.patient.auth.logout.ts'),
  route('api/patient/auth/canvas-callback', 'routes/api.patient.auth.canvas-callback.ts'),
  route('api/patient/profile', 'routes/api.patient.profile.ts'),
  route('api/patient/appointments', 'routes/api.patient.appointments.ts'),
  route(
    'api/patient/appointments/:appointmentId/reschedule',
    'routes/api.patient.appointments.reschedule.ts',
  ),
  route(
    'api/patient/appointments/:appointmentId/cancel',
    'routes/api.patient.appointments.cancel.ts',
  ),
  route('api/patient/availability', 'routes/api.patient.availability.ts'),
  route('api/patient/messages', 'routes/api.patient.messages.ts'),
  route('api/patient/notifications', 'routes/api.patient.notifications.ts'),
  route('api/patient/notifications/read-all', 'routes/api.patient.notifications.read-all.ts'),
  route(
    'api/patient/notifications/:notificationId/read',
    'routes/api.patient.notifications.read.ts',
  ),
  route('api/patient/prescriptions', 'routes/api.patient.prescriptions.ts'),
  route('api/patient/shipments', 'routes/api.patient.shipments.ts'),
  route('api/patient/tracking/:trackingNumber', 'routes/api.patient.tracking.ts'),
  route('api/*', 'routes/api.not-found.ts'),

  route('*', 'routes/not-found.tsx'),
] satisfies RouteConfig;
