package main

import (
	"fmt"
	"strings"
	"time"

	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// podStages is kwok's own default pod life cycle (ready, complete, delete) with two changes to the step that
// makes a pod Running and Ready: it waits the rollout delay, and it leaves istiod's pods (label app=istiod)
// to the istiod runner.
func podStages(delay time.Duration) string {
	ready := podfast.DefaultPodReady
	extra := "    - key: '.metadata.labels.app'\n      operator: 'NotIn'\n      values: ['istiod']\n"
	ready = strings.Replace(ready, "    matchExpressions:\n", "    matchExpressions:\n"+extra, 1)
	if delay > 0 {
		ready = strings.Replace(ready, "\nspec:\n", fmt.Sprintf("\nspec:\n  delay:\n    durationMilliseconds: %d\n", delay.Milliseconds()), 1)
	}
	return strings.Join([]string{ready, podfast.DefaultPodComplete, podfast.DefaultPodDelete}, "\n---\n")
}
