// The Kubernetes adapter family: the application's Deployment and Secret (AppRuntime) and a SecretStore
// kept in Secrets, on clusters reached by kubeconfig and context or by the pod's own ServiceAccount.
export { kubeConfigFor, type KubernetesClusterAccess } from './kube-config';
export { createKubernetesAppRuntime, restartedAtAnnotation, type KubernetesAppRuntimeOptions, type KubernetesDeploymentTarget } from './kubernetes-app-runtime';
export { createKubernetesSecretStore, type KubernetesSecretStoreOptions } from './kubernetes-secret-store';
export { rolloutOf, type DeploymentRollout } from './rollout-status';
