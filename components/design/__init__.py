"""The Design page: the first visit's way in, the layer stack and its editor, the
selected layer's settings, the task picker, the model summary, the equations and the
exported code."""
